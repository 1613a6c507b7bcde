from epigrid.cli import main

main()
