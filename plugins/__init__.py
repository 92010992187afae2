"""Built-in plugins. Each registers through the ``promtour`` entry-point group, exactly
as a third-party plugin does; the core never imports them by name."""
