"""The console: a browser front end at ``/`` over the JSON API (same keys, same roles, same
masking, since every figure it shows comes from an API call), and the API's own pages
(``/docs``, ``/redoc``) with their scripts served from the package, not a CDN."""
