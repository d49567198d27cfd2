"""Input shape for registering a webhook endpoint; which URLs may be used is the service's rule."""

from __future__ import annotations

from wtforms import SelectMultipleField, URLField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from undersign.web.forms import Form, SingleLine
from undersign.webhooks.models import EVENTS

EVENT_LABELS = {
    "signature.confirmed": "A signature is confirmed (only signers who agreed to hear from you)",
    "signature.withdrawn": "A signature is withdrawn (delete your copy)",
    "campaign.updated": "A petition you sponsor is edited",
    "campaign.closed": "A petition you sponsor closes",
}


class EndpointForm(Form):
    url = URLField("Endpoint URL", validators=[DataRequired("Enter the URL to send events to."),
                                                Length(max=2000), SingleLine()],
                   description="Your system's address for our POST requests, e.g. https://crm.example.org/hooks.")
    events = SelectMultipleField(
        "Events", choices=[SelectChoice(name, EVENT_LABELS[name]) for name in EVENTS],
        validators=[DataRequired("Choose at least one event.")],
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
    )
