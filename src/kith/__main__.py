from kith.cli.main import main

main()
