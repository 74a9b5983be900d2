"""What every channel's receiving and sending shares: work gathered into one
transaction, each resident's messages in order, a send rate kept under a limit.
Imports no channel."""
