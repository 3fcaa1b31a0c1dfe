"""Root conftest: the suite's options, fixtures and report come from one plugin."""
pytest_plugins = ["harness.pytest_plugin"]
