"""Input shape for registering a webhook endpoint; which URLs may be used is the service's rule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, URLField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from undersign.web.forms import Form, SingleLine
from undersign.webhooks.models import EVENTS

EVENT_LABELS = {
    "signature.confirmed": _l("A signature is confirmed (only signers who agreed to hear from you)"),
    "signature.withdrawn": _l("A signature is withdrawn (delete your copy)"),
    "campaign.updated": _l("A petition you sponsor is edited"),
    "campaign.closed": _l("A petition you sponsor closes"),
}


class EndpointForm(Form):
    url = URLField(_l("Endpoint URL"), validators=[DataRequired(_l("Enter the URL to send events to.")),
                                                Length(max=2000), SingleLine()],
                   description=_l("Your system's address for our POST requests, e.g. https://crm.example.org/hooks."))
    events = SelectMultipleField(
        _l("Events"), choices=[SelectChoice(name, EVENT_LABELS[name]) for name in EVENTS],
        validators=[DataRequired(_l("Choose at least one event."))],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )
