"""Page handlers of the web app, one module per area; each module has ``urlpatterns``."""
