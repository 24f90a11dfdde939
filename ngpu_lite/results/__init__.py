"""Layer 4, results: the recipes of the shipped models (`recipes`), building and measuring them
(`zoo`: `make checkpoints`, `make results`), the families table (`families_table`) and the LSTM
baseline (`baselines`)."""
