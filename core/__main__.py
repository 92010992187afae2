from promtour._cli import main

raise SystemExit(main())
