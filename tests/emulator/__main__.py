import sys

from tests.emulator.cli import main

sys.exit(main())
