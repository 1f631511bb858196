"""Start the citeqa chat app: `python app.py [--host H] [--port P] [--data-dir D] ...` (see --help)."""

from qa.ui import launch

if __name__ == "__main__":
    launch()
