from unitgate.cli import main

raise SystemExit(main())
