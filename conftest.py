"""Root conftest: the suite's options, fixtures and report come from one plugin; pytester drives it in-process
in the harness's own tests."""
pytest_plugins = ["harness.pytest_plugin", "pytester"]
