#!/bin/sh
# Screenshots of the pages fixed in issue 17, Persian and English, 1366 and 360 px wide, into
# docs/screens/ (made by the browser layout test, then reduced to 256-colour PNGs).
set -e
cd "$(dirname "$0")/.."
mkdir -p docs/screens
FIELDSVC_SCREENSHOTS=docs/screens .venv/bin/pytest tests/web/test_layout_browser.py -q -p no:randomly
.venv/bin/python - <<'PY'
from pathlib import Path
from PIL import Image
for p in sorted(Path("docs/screens").glob("*.png")):
    img = Image.open(p).convert("RGB")
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(p, optimize=True)
PY
du -sh docs/screens
