"""Pages for people (/ui): a client's timeline, the lists, and the ledger's health,
server-rendered from Jinja2 templates in the same app, behind the same read tokens.

Read from the top: `pages.py` (the routes, mounted at /ui by `app.http.main.create_app`),
`session.py` (a read token for a signed session cookie; CSRF), `data.py` (what each page
reads: the API's canned queries through their one handler, and queries/ui/*.sql),
`render.py` (templates, times in the practice's zone), `charts.py` (the SVG charts),
`headers.py` (security headers). `templates/` and `static/` ship inside the package;
the pages have no script at all.
"""
