"""`python -m mnist_vit predict|evaluate ...`: see `mnist_vit.cli`."""

from mnist_vit.cli import main

main()
