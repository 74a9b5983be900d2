"""WhatsApp residents: their messages as calls on the conversation service, and back.

WhatsApp has no commands, so a message that is only a command's word ("mydata",
"forget", "stop", "help", "language", in English, Welsh, Polish or Urdu, with or
without a slash) is that command; "start example--partner", as a partner's wa.me link fills it in,
joins a consultation. Anything else is an answer. A button's or list row's id is the
data the engine gave it. Nothing here remembers a resident between messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.channels.batching import GroupCommit
from bot.whatsapp.inbound import Incoming
from bot.whatsapp.sending import Outbox
from conversations.flow.inputs import Input, TextInput, Unsupported
from conversations.flow.messages import Message
from conversations.residents.service import ConversationService, Joining, Who
from conversations.residents.service import Incoming as Answer

CHANNEL = "whatsapp"
# Each command's words; Welsh, Polish and Urdu beside English.
COMMANDS = {
    "start": "start", "join": "start", "dechrau": "start", "ymuno": "start",
    "help": "help", "cymorth": "help", "help!": "help",
    "language": "language", "iaith": "language",
    "mydata": "mydata", "my data": "mydata", "fy nata": "mydata", "fynata": "mydata",
    "forget": "forget", "forget me": "forget", "anghofio": "forget", "anghofiwch fi": "forget",
    "stop": "stop", "stopio": "stop", "unsubscribe": "stop",
    # Polish (with and without its letters' marks, as phones may drop them) and Urdu.
    "pomoc": "help", "język": "language", "jezyk": "language",
    "mojedane": "mydata", "moje dane": "mydata", "zapomnij": "forget",
    "شروع": "start", "مدد": "help", "زبان": "language", "میرا ڈیٹا": "mydata",
    "بھول جائیں": "forget", "بند": "stop",
}  # fmt: skip


def command_of(text: str) -> tuple[str, str | None] | None:
    """("start", "example--partner") for "start example--partner"; None for an answer."""
    said = " ".join(text.strip().lstrip("/").casefold().split())
    if said in COMMANDS:
        return COMMANDS[said], None
    first, _, rest = said.partition(" ")
    if COMMANDS.get(first) == "start" and rest and " " not in rest and len(rest) <= 64:
        return "start", rest
    return None


class WhatsAppResidents:
    def __init__(self, service: ConversationService, outbox: Outbox) -> None:
        self.service = service
        self.outbox = outbox
        # Answers, presses and newcomers' "start" from many residents share a transaction.
        self.answers: GroupCommit[Answer | Joining, list[Message] | None] = GroupCommit(
            service.answer_many, fallback=None
        )

    async def handle(self, message: Incoming) -> bool:
        """One message, answered (its replies sent) before the resident's next; whether
        every reply was sent."""
        who = Who(CHANNEL, message.wa_id, message.wa_id)
        messages = await self._messages(who, message.key, message)
        return await self.outbox.deliver(message.wa_id, messages, None)

    async def _messages(self, who: Who, key: str, message: Incoming) -> list[Message]:
        service = self.service
        if message.kind == "press":
            data = message.data
            return await self._answer(who, key, service.answer_input(data),
                                      lambda: service.press(who, data, update_key=key))  # fmt: skip
        if message.kind != "text":
            given: Input = Unsupported("voice" if message.other == "voice" else "other")
            return await asyncio.to_thread(service.receive, who, given, update_key=key)
        command = command_of(message.text)
        if command is None:
            typed = TextInput(message.text, ref=key)
            return await self._answer(who, key, typed,
                                      lambda: service.receive(who, typed, update_key=key))  # fmt: skip
        name, argument = command
        if name == "start":
            return await self._answer(who, key, Joining(who, key, argument),
                                      lambda: service.start(who, argument, update_key=key))  # fmt: skip
        calls: dict[str, Callable[[], list[Message]]] = {
            "help": lambda: service.help(who),
            "language": lambda: service.language_menu(who, update_key=key),
            "mydata": lambda: service.my_data(who, update_key=key),
            "forget": lambda: service.forget_request(who, update_key=key),
            "stop": lambda: service.stop(who, update_key=key),
        }
        return await asyncio.to_thread(calls[name])

    async def _answer(self, who: Who, key: str, given: Input | Joining | None,
                      in_full: Callable[[], list[Message]]) -> list[Message]:  # fmt: skip
        """A plain answer or a newcomer joining goes in a batch with other residents';
        the rest, or a batch that cannot take it, in full."""
        item = given if isinstance(given, Joining) or given is None else Answer(who, key, given)
        messages = await self.answers.submit(item) if item is not None else None
        if messages is None:
            messages = await asyncio.to_thread(in_full)
        return messages
