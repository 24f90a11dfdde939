"""Layer 1, data: the tasks and their encoding (`tasks`), the structured families' generators
(`families`) and the training batches drawn from both (`batches`)."""
