// The call builder's small enhancements (every page works without them). Served from
// static/ so the Content-Security-Policy stays as it is (no inline scripts).
"use strict";
