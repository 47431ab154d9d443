"""What talks to Slack but is not a listener: App Home drawing, the Web API client, OAuth, HTTP."""
