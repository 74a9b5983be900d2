"""The web server: resident chat, staff dashboard, health check and Telegram webhook.

`bot.web.app.build_web_app` builds it. Nothing is imported here, so that importing
one part does not load every page."""
