"""Who may do what: sign-in and roles (:mod:`~geo.access.auth`), and masking personal data before any text is
shown to a viewer (:mod:`~geo.access.privacy`)."""
