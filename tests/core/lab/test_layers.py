"""Layering rules: core/ never imports streamlit, directly or through its imports."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_no_streamlit_import_in_core_source():
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            assert not any(n.split(".")[0] == "streamlit" for n in names), f"{path} imports streamlit"


def test_importing_core_loads_neither_streamlit_nor_tensorflow():
    code = (
        "import sys, core.cli, core.perturbed_masking.impact, core.perturbed_masking.parsing, core.lab.store, "
        "core.perturbed_masking.figures, core.optimizers.functions, core.lab.jobs\n"
        "core.cli.build_parser()\n"
        "print(sorted(m for m in ('streamlit', 'tensorflow', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
