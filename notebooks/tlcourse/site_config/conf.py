"""Sphinx configuration of the course's website (read by ``python -m tlcourse.site``; not run by hand).

The pages come from notebooks that ``tlcourse.site`` has already executed (``nb_execution_mode =
"off"``). Everything the pages load ships with Sphinx, MyST-NB and Furo: no CDN script, font or
stylesheet, so the site opens from disk in a classroom without network.
"""

project = "Transfer learning, paso a paso"
author = "Transfer learning, paso a paso (adaptación del curso de Alberto Díaz Álvarez)"
copyright = "texto CC BY-NC-SA 4.0 · código MIT"
language = "es"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# The notebooks arrive executed: MyST-NB only renders them.
nb_execution_mode = "off"
nb_merge_streams = True
# A figure of the series is a bundle (tlcourse.show_figure): HTML <img alt="…">, the PNG, the alt text.
# The HTML goes first so that the alternative text reaches the page; scripts and widgets never run
# here (they would need the network), so they are not rendered at all.
nb_mime_priority_overrides = [
    ("html", "text/html", 0),
    ("html", "application/javascript", None),
    ("html", "application/vnd.jupyter.widget-view+json", None),
]
nb_ipywidgets_js = {}
myst_heading_anchors = 3

html_theme = "furo"
html_title = "Transfer learning, paso a paso"
html_static_path = ["static"]
html_css_files = ["curso.css"]
html_copy_source = False
html_show_sourcelink = False
html_permalinks_icon = "#"
html_theme_options = {"navigation_with_keys": True}
# MathJax would come from a CDN: the notebooks write no LaTeX ($…$ is not read as math here), and
# tlcourse.site refuses a page that would load anything from the network.
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]
