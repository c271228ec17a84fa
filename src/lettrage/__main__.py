import sys

from lettrage.cli import main

sys.exit(main())
