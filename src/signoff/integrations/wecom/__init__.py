"""WeCom (企业微信) callbacks: the WXBizMsgCrypt signature and AES scheme, freshness and
replay checks, the XML envelope, and the `sys_approval_change` event.

DingTalk's event subscriptions use the same crypto (`WecomCrypto` with the owner key
as receive id); only their envelope is JSON instead of XML.
"""
