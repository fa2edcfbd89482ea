"""JSON that stays data inside a <script> and through any number of Jinja renders.

branca renders every element's output again as a Jinja template (`Element(rendered_text)`), so a
name such as `{{ 7*7 }}` would be evaluated and `{#` would swallow the script up to the next `#}`.
Inside string literals, `{ } % #` (Jinja delimiters), `< > &` (could close the <script> or start
markup) and the line separators U+2028/9 become `\\uXXXX` escapes, which JavaScript reads back as
the same text while no template engine sees a delimiter; JSON's own braces never form one (`{{`,
`{%`, `{#` cannot occur outside a string in JSON). We chose this over `{% raw %}` because the text
passes through an unknown number of renders, and JSON escapes are inert in all of them.
"""

from __future__ import annotations

import json
import re

__all__ = ["script_json"]

_INERT = str.maketrans({c: f"\\u{ord(c):04x}" for c in "{}%#<>&\u2028\u2029"})
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def script_json(data: object) -> str:
    """`data` as JSON whose strings carry no Jinja delimiter and cannot end a <script>."""
    text = json.dumps(data, ensure_ascii=False)
    return _JSON_STRING.sub(lambda m: m.group(0).translate(_INERT), text)
