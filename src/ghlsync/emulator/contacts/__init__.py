"""Contacts, HighLevel's central record: model, indexes, search and routes.

- ``model``: the wire views (``contact_view``, the search row, webhook bodies), normalising
- ``indexes``: ``ContactCollection``, the sorted and lookup indexes the store keeps
- ``filters`` / ``search``: ``POST /contacts/search`` (filters compiled, then sorted and paged)
- ``lookup``: the contact of a request (400) and its children (404)
- ``writes``: field checks, duplicate rules and the one write path (``save``)
- ``routes``: contacts, upsert, tags, search and lists; ``children``: notes, tasks,
  appointments; ``membership``: followers, campaigns, workflows
"""
