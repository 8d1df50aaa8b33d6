"""Postmortems written from the record (issue 17): the incident's file (:mod:`.record`), the draft
in Markdown (:mod:`.draft`) with every hostile field made inert (:mod:`.escape`), a chat model's
wording kept only when it adds no fact (:mod:`.wording`), the drafts and verifications kept with
the incident (:mod:`.store`), and the one way in for the CLI and Slack (:mod:`.drafting`)."""
