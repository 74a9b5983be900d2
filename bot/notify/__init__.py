"""GOV.UK Notify: text messages and email (safeguarding alerts to leads; invitations and decisions to web-chat residents)."""
