"""Sphinx extension of make book: a book that loads nothing from the network and logs no error in the browser.

jupyter-book 1.x always loads sphinx_thebe (live code cells, which this book does not offer), and its configuration
script ends up twice on every page: the second ``const THEBE_JS_URL`` is a JavaScript error. This drops it.
MathJax comes from a local copy (book/_config.yml: ``mathjax_path``), fetched by ``make setup``.
"""


def drop_thebe(app) -> None:
    for name in ("env-before-read-docs", "doctree-resolved"):
        listeners = app.events.listeners.get(name, [])
        listeners[:] = [listener for listener in listeners
                        if getattr(listener.handler, "__module__", "") != "sphinx_thebe"]


def setup(app):
    app.connect("builder-inited", drop_thebe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
