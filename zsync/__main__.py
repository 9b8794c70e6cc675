"""`python -m zsync` runs the same CLI as the `zsync` console script."""

from zsync.cli import main

if __name__ == "__main__":
    main()
