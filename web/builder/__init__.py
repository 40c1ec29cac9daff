"""The call builder (#16): organisers build, preview, publish and run their calls in the
browser. Server-rendered pages, one thing per page, that work without JavaScript (GOV.UK
Forms' builder is the model); each module is one blueprint, registered in app.py."""
