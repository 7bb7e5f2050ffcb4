import sys

from journey.cli.entry import main

sys.exit(main())
