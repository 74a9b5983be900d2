"""GOV.UK Notify: email (and, to come, text messages)."""
