"""Who may do what: sign-in and roles (:mod:`~geo.access.auth`), slowing down password guessing
(:mod:`~geo.access.throttle`), and masking personal data before any text is shown to a viewer
(:mod:`~geo.access.privacy`)."""
