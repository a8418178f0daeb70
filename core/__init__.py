"""Storefleet's domain: everything the web layers and the jobs share."""
