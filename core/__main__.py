from promtour.cli import main

raise SystemExit(main())
