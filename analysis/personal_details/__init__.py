"""Personal details in free text: found and scrubbed before words leave the service."""
