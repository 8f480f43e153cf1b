"""UK Biobank data formats: the neck-to-knee Dixon protocol, archive reading and the field catalogue."""
