"""Settings modules: ``base`` (shared), ``local`` (laptop default), ``test`` and ``production``."""
