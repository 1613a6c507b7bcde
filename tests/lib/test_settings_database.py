"""The database settings: a SQLite file named by URL runs as the default one does."""

from epigrid import settings


def test_it_runs_a_sqlite_file_named_by_url_with_the_defaults_options(tmp_path):
    named = settings._database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    default = settings._database(None)
    assert named["NAME"] == str(tmp_path / "x.sqlite3")
    assert named["OPTIONS"] == default["OPTIONS"]
    assert "journal_mode=WAL" in named["OPTIONS"]["init_command"]
    assert named["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_it_leaves_postgresql_without_sqlite_options():
    config = settings._database("postgres://u@127.0.0.1:5432/x")
    assert "init_command" not in config.get("OPTIONS", {})
    assert "transaction_mode" not in config.get("OPTIONS", {})
