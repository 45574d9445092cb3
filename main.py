"""Start Journey Explorer from a source checkout: ``python main.py [PROJECT]``."""
from journey_explorer.app import main

if __name__ == "__main__":
    raise SystemExit(main())
