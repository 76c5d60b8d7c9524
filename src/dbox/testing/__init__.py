"""Test doubles that speak real protocols (a Twilio-compatible HTTP server, a keyring backend for
tests), shipped so that users can rehearse a campaign without reaching any provider."""
