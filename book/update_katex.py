"""Re-vendor KaTeX into book/vendor/katex from npm: `python -m book.update_katex [VERSION]`.

The site typesets formulas with KaTeX served from its own folder, so the build and the pages need
no network. Only what the pages use is kept (about 0.55 MB): the minified script and style sheet,
the auto-render extension and the WOFF2 fonts (every browser that runs KaTeX reads WOFF2; the
style sheet is rewritten to name only those). Needs `npm` and the registry, once, by a maintainer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "0.16.47"
VENDOR = Path(__file__).resolve().parent / "vendor" / "katex"
FALLBACK_FONTS = re.compile(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')


def woff2_only(css: str) -> str:
    """KaTeX's style sheet with each @font-face naming only its WOFF2 file (the ones vendored)."""
    return FALLBACK_FONTS.sub("", css)


def update(version: str = VERSION, vendor: Path = VENDOR) -> None:
    """Download katex@`version` with `npm pack` and copy the files the site needs into `vendor`."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"katex@{version}", "--silent"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("katex-*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        package = Path(tmp) / "package"
        dist = package / "dist"
        if vendor.exists():
            shutil.rmtree(vendor)
        (vendor / "fonts").mkdir(parents=True)
        (vendor / "contrib").mkdir()
        shutil.copyfile(dist / "katex.min.js", vendor / "katex.min.js")
        shutil.copyfile(dist / "contrib" / "auto-render.min.js", vendor / "contrib" / "auto-render.min.js")
        (vendor / "katex.min.css").write_text(woff2_only((dist / "katex.min.css").read_text()))
        for font in sorted((dist / "fonts").glob("*.woff2")):
            shutil.copyfile(font, vendor / "fonts" / font.name)
        shutil.copyfile(package / "LICENSE", vendor / "LICENSE")
        (vendor / "VERSION").write_text(version + "\n")


if __name__ == "__main__":
    update(*sys.argv[1:2])
    print(f"KaTeX {sys.argv[1] if len(sys.argv) > 1 else VERSION} vendored into {VENDOR}")
