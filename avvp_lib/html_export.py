"""The notebooks as HTML pages whose equations render offline: MathJax is copied beside the pages and the pages
load it from there (nbconvert's default loads it from a CDN, so offline the LaTeX stays raw).

``python -m avvp_lib.html_export [--out runs/html] [NN ...]`` (``make html``); open ``runs/html/index.html``.
MathJax comes from the ``jupyter-server-mathjax`` package (a dev dependency).
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from avvp_lib import paths

MATHJAX_FOLDER = "mathjax"
MATHJAX_URL = f"{MATHJAX_FOLDER}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"


def mathjax_source() -> Path:
    """The MathJax 2 files shipped by ``jupyter-server-mathjax`` (an error that says how to get them)."""
    try:
        import jupyter_server_mathjax
    except ImportError as error:
        raise ImportError("offline math needs the jupyter-server-mathjax package: pip install jupyter-server-mathjax "
                          "(part of avvp_lib[dev])") from error
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (source / "MathJax.js").is_file():
        raise FileNotFoundError(f"{source}/MathJax.js: missing from the jupyter-server-mathjax install")
    return source


def export(notebooks, out: str | Path) -> list[Path]:
    """Write ``<out>/<notebook>.html`` for each notebook and ``<out>/index.html``; MathJax goes to ``<out>/mathjax``
    (copied once)."""
    import nbformat
    from nbconvert import HTMLExporter

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / MATHJAX_FOLDER / "MathJax.js").is_file():
        staging = out / f".{MATHJAX_FOLDER}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(mathjax_source(), staging)
        shutil.rmtree(out / MATHJAX_FOLDER, ignore_errors=True)
        staging.rename(out / MATHJAX_FOLDER)
    exporter = HTMLExporter(mathjax_url=MATHJAX_URL)
    written = []
    for notebook in map(Path, notebooks):
        body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
        page = out / f"{notebook.stem}.html"
        page.write_text(body, encoding="utf-8")
        written.append(page)
    links = "\n".join(f'<li><a href="{p.name}">{p.stem}</a></li>' for p in written)
    (out / "index.html").write_text(f"<!doctype html><title>avvp-course</title><h1>avvp-course notebooks</h1>"
                                    f"<ul>\n{links}\n</ul>\n", encoding="utf-8")
    return written


def main(argv=None) -> int:
    from avvp_lib.course import notebooks

    parser = argparse.ArgumentParser(prog="python -m avvp_lib.html_export", description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="notebook number prefixes (default: all)")
    parser.add_argument("--out", default=None, help="output folder (default runs/html)")
    args = parser.parse_args(argv)
    chosen = [p for p in notebooks() if not args.only or any(p.name.startswith(o) for o in args.only)]
    if not chosen:
        parser.error(f"no notebook matches {args.only}")
    out = Path(args.out) if args.out else paths.runs_dir() / "html"
    for page in export(chosen, out):
        print(f"[html] {paths.shown(page)}", flush=True)
    print(f"[html] open {paths.shown(out / 'index.html')} (math renders offline: MathJax in {MATHJAX_FOLDER}/)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
