"""The round-trip property: compile(render(spec)) == spec for any valid spec, with the
same settings stated (what the text states is what MycoPod manages)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from mycopod import spec as specmod
from mycopod.declarations import grammar, render
from tests.support.strategies import cluster_specs

#: MYCOPOD_ROUNDTRIP_EXAMPLES=5000 for the long run; the default keeps make test quick
EXAMPLES = int(os.environ.get("MYCOPOD_ROUNDTRIP_EXAMPLES", "400"))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cluster_specs())
def test_compile_of_render_is_identity(spec: specmod.ClusterSpec) -> None:
    text = render.render(spec)
    back = grammar.compile_text(text, filename="rendered.md")
    assert back == spec, text
    assert specmod.spec_dict(back) == specmod.spec_dict(spec), text
