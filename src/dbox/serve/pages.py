"""The public pages' shared frame: mobile-first, accessible HTML that works without JavaScript
(labels tied to their fields, errors announced and linked from a summary, large touch targets,
visible focus), one small inline style sheet (no external request).

Strings are written in English and shown in the server's language (``dbox.i18n``: ``dbox --lang fr
serve``, ``lang`` in the config, or the locale), like every message of dbox."""

from __future__ import annotations

from html import escape

from dbox.i18n import _, current_language
from dbox.serve.guard import HONEYPOT_FIELD

STYLE = """
*{box-sizing:border-box}html{font-size:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#1b1b1b;
background:#f6f7f9}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem;color:#1d3557}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
p{margin:.5rem 0}
form{background:#fff;border:1px solid #d0d5dd;border-radius:.5rem;padding:1rem}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=email],input[type=tel],select,textarea{width:100%;font:inherit;font-size:1rem;padding:.7rem;
border:2px solid #667085;border-radius:.375rem;background:#fff;color:#1b1b1b}
input:focus,select:focus,textarea:focus,button:focus,a:focus,summary:focus{outline:3px solid #ffbf47;outline-offset:2px}
.check{display:flex;gap:.6rem;align-items:flex-start;margin:.5rem 0}
.check input{width:1.5rem;height:1.5rem;flex:none;margin:.1rem 0 0}
.check label{font-weight:400;margin:0}
fieldset{border:0;margin:0 0 1rem;padding:0}
legend{font-weight:600;margin-bottom:.25rem}
button{font-size:1.05rem;font-weight:600;padding:.8rem 1.4rem;border:0;border-radius:.375rem;background:#1d3557;
color:#fff;min-height:3rem;width:100%}
.error{color:#b42318;font-weight:600;margin:.25rem 0}
.summary{border:3px solid #b42318;background:#fff;padding:.75rem 1rem;margin:0 0 1rem;border-radius:.375rem}
.notice{border-left:6px solid #2a9d8f;background:#fff;padding:.75rem 1rem;margin:0 0 1rem}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.req{font-weight:400;color:#475467}
dl{background:#fff;border:1px solid #d0d5dd;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
dt{font-weight:600}dd{margin:0 0 .5rem}
ol.stops{list-style:none;padding:0;margin:0}
ol.stops>li{background:#fff;border:1px solid #d0d5dd;border-radius:.5rem;margin:0 0 .75rem}
summary{padding:.8rem 1rem;cursor:pointer;min-height:3rem}
.stop form{border:0;border-top:1px solid #d0d5dd;border-radius:0}
.done{color:#2a7a3b;font-weight:600}
.wording{background:#f2f4f7;padding:.5rem .75rem;border-radius:.375rem;font-style:italic}
.radios{display:flex;flex-wrap:wrap;gap:.25rem .9rem}
.radios .check{margin:.25rem 0}
@media (min-width:48rem){main{padding:2rem}button{width:auto}}
"""


def page(title: str, body: str, *, robots: str = "noindex") -> str:
    """A whole HTML document, in the server's language."""
    return (f'<!doctype html><html lang="{escape(current_language())}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta name="robots" content="{robots}"><meta name="referrer" content="same-origin">'
            f'<link rel="icon" href="data:,">'      # no /favicon.ico request
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",   # no-referrer would make browsers send "Origin: null"
    # No script at all; frames allowed (the embeddable snippet), forms post to this server only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
                               "base-uri 'none'",
}


def respond(html_text: str, status: int = 200, *, frame: bool = True):
    from starlette.responses import HTMLResponse

    headers = dict(SECURITY_HEADERS)
    if not frame:
        headers["X-Frame-Options"] = "DENY"
        headers["Content-Security-Policy"] += "; frame-ancestors 'none'"
    return HTMLResponse(html_text, status_code=status, headers=headers)


def not_found():
    title = _("Page not found")
    says = _("This page does not exist or is no longer open.")
    return respond(page(title, f"<h1>{escape(title)}</h1><p>{escape(says)}</p>"), 404)


def error_summary(errors: dict[str, str], ids: dict[str, str]) -> str:
    """The list of problems at the top of a form, each a link to its field (messages are
    msgids, translated here)."""
    if not errors:
        return ""
    items = "".join(f'<li><a href="#{escape(ids.get(name, name))}">{escape(_(message))}</a></li>'
                    if name in ids else f"<li>{escape(_(message))}</li>"
                    for name, message in errors.items())
    title = _("There is a problem")
    return (f'<div class="summary" role="alert" tabindex="-1" id="problems"><h2>{escape(title)}'
            f"</h2><ul>{items}</ul></div>")


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value, quote=True)}">'


def honeypot() -> str:
    label = _("Leave this field empty")
    return (f'<div class="hp" aria-hidden="true"><label for="hp-{HONEYPOT_FIELD}">'
            f'{escape(label)}</label>'
            f'<input type="text" id="hp-{HONEYPOT_FIELD}" name="{HONEYPOT_FIELD}" tabindex="-1" autocomplete="off">'
            f"</div>")
