import pytest

from wslab.core.errors import ConfigError
from wslab.runner.config import LIMITS, RunConfig, check_loopback, max_clients


def cfg(**kw):
    return RunConfig(**{"transport": "websocket", **kw}).validate()


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"transport": "pigeon"}, "allowed: tcp, websocket, sse, long-poll, short-poll"),
        ({"rate": 0}, "rate must be > 0"),
        ({"rate": -5}, "rate must be > 0"),
        ({"rate": float("nan")}, "rate must be > 0"),
        ({"duration": 0}, "duration must be > 0"),
        ({"duration": 10_000}, "<= 3600"),
        ({"payload": -1}, "payload must be between 0 and 1,000,000"),
        ({"payload": 2_000_000}, "payload must be between 0 and 1,000,000"),
        ({"clients": 0}, "clients must be between 1"),
        ({"clients": 10**6}, "open-file hard limit"),
        ({"clients": 2.5}, "clients must be an integer"),
        ({"schedule": "often"}, "fixed, poisson, burst"),
        ({"interval": 0.1}, "interval applies to short-poll, h2-short-poll only"),
        ({"transport": "short-poll", "interval": 0}, "interval must be > 0"),
        ({"transport": "short-poll", "interval": -1}, "interval must be > 0"),
        ({"options": {"colour": "red"}}, "allowed: compression"),
        ({"host": "10.0.0.1"}, "loopback"),
        ({"host": "example.org"}, "loopback"),
        ({"clients": 10_000, "rate": 1000, "duration": 3600}, "deliveries"),
        ({"fleets": 0}, "fleets must be between 1"),
        ({"keep_messages": "no"}, "keep_messages must be true or false"),
        ({"options": {"fanout": "smoke signals"}}, "fanout must be broadcast or queue"),
        ({"transport": "short-poll", "options": {"headers": "netscape"}}, "aiohttp, browser"),
        ({"warmup": 10, "duration": 5}, "warmup must be"),
        ({"transport": "long-poll", "options": {"timeout": 1000}}, "timeout must be > 0 and <= 300"),
        ({"options": ["compression"]}, "options must be a table"),
    ],
)
def test_bad_input_names_what_is_allowed(kw, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cfg(**kw)


def test_defaults_and_normalisation():
    c = cfg(transport="short-poll", interval=0.2, clients=12_000)
    assert c.options["interval"] == 0.2 and c.interval == 0.2
    assert c.fleets == 3  # one client process per 5,000 clients
    assert c.warmup == pytest.approx(0.5)
    assert cfg(transport="long-poll").options["timeout"] == 30.0  # RFC 6202 §5.5
    assert cfg(transport="sse").options["ping"] == 15.0  # aiohttp-sse's default
    assert cfg(transport="short-poll").options["headers"] == "aiohttp"
    assert cfg().options == {"compression": False, "fanout": "broadcast"}


def test_existing_nonempty_out_is_refused_and_untouched(tmp_path):
    (tmp_path / "keep.txt").write_text("data")
    with pytest.raises(ConfigError, match="exists and is not empty"):
        cfg(out=str(tmp_path))
    assert (tmp_path / "keep.txt").read_text() == "data"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cfg(out=str(empty)).out == str(empty)  # an empty directory is fine


def test_loopback_only():
    assert check_loopback("127.0.0.5") == "127.0.0.5"
    assert check_loopback("::1") == "::1"
    assert check_loopback("localhost") == "127.0.0.1"
    with pytest.raises(ConfigError):
        check_loopback("0.0.0.0")


def test_limits_are_bounded():
    assert max_clients() > 0
    assert all(v > 0 for v in LIMITS.values())


def test_each_transport_validates_its_own_options():
    """RunConfig hands the options to the transport's validate_options hook."""
    from wslab import transports
    from wslab.transports import Transport, register

    @register
    class Strict(Transport):
        name = "strict-test"
        delivery = "push"
        client_options = {"level": 1}

        @classmethod
        def validate_options(cls, options):
            merged = super().validate_options(options)
            if merged["level"] not in (1, 2):
                raise ConfigError(f"level must be 1 or 2, not {merged['level']!r}")
            return {**merged, "level": int(merged["level"])}

    try:
        assert cfg(transport="strict-test", options={"level": 2.0}).options == {"level": 2}
        with pytest.raises(ConfigError, match="level must be 1 or 2, not 3"):
            cfg(transport="strict-test", options={"level": 3})
        with pytest.raises(ConfigError, match="allowed: level"):
            cfg(transport="strict-test", options={"volume": 3})
    finally:
        transports._REGISTRY.pop("strict-test")


def test_payload_kind_is_checked_before_anything_starts():
    assert RunConfig(transport="tcp").validate().payload_kind == "random"
    assert RunConfig(transport="tcp", payload_kind="json").validate().payload_kind == "json"
    with pytest.raises(ConfigError, match="payload_kind must be one of random, json, repeated"):
        RunConfig(transport="tcp", payload_kind="zeros").validate()
