from dbox.cli import main

main()
