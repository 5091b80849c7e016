pytest_plugins = ["tests.emulator.pytest_plugin"]
