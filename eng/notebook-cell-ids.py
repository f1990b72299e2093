#!/usr/bin/env python3
"""Gives every cell of the given notebooks an nbformat 4.5 cell id (keeps existing ones) and writes them back in the
committed layout (indent 1; ASCII escapes only where the file already uses them). usage: eng/notebook-cell-ids.py notebooks/*.ipynb"""
import json
import sys
import uuid

for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    notebook = json.loads(text)
    ascii_only = text.isascii()
    seen = set()
    changed = False
    for cell in notebook["cells"]:
        if not cell.get("id") or cell["id"] in seen:
            cell["id"] = uuid.uuid4().hex[:8]
            changed = True
        seen.add(cell["id"])
    if notebook.get("nbformat") != 4 or notebook.get("nbformat_minor", 0) < 5:
        notebook["nbformat"], notebook["nbformat_minor"] = 4, 5
        changed = True
    if changed:
        # "id" right after "cell_type", as Jupyter writes it.
        notebook["cells"] = [{"cell_type": c["cell_type"], "id": c["id"], **{k: v for k, v in c.items() if k not in ("cell_type", "id")}}
                             for c in notebook["cells"]]
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(notebook, indent=1, ensure_ascii=ascii_only) + ("\n" if text.endswith("\n") else ""))
        print(f"{path}: cell ids written")
