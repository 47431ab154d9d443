"""Start Flipside: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on PORT (plus the scheduler)."""

from __future__ import annotations

import sys

from dotenv import load_dotenv

from bot.runtime import StartupError, start_app


def main() -> int:
    load_dotenv()
    try:
        start_app()
    except StartupError as error:
        print(f"flipside: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
